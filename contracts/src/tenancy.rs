//! A tenant namespace (`org-<slug>`), as the isolation gate makes it and Kyverno recognises it.

/// Marks a tenant namespace: restricted Pod Security and a generated default-deny
/// NetworkPolicy select on it (value `"true"`).
pub const TENANT_LABEL: &str = "platform/tenant";
/// The org a tenant namespace belongs to (required on it by the label policy).
pub const ORG_LABEL: &str = "platform/org";
/// Set by the isolation gate once the default-deny NetworkPolicy is in place.
pub const ISOLATION_READY_LABEL: &str = "isolation-ready";
/// The NetworkPolicy Kyverno generates in every tenant namespace; the gate waits for it.
pub const DEFAULT_DENY: &str = "default-deny";
