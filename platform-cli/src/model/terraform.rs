//! The Terraform providers every rendered root may require, each with the versions it is pinned
//! to: one table behind the roots' `versions.tf` (the template function `terraform_provider`)
//! and `platform outdated`. The modules the hand-written `terraform/modules/` call pin their own
//! versions where they call them.

/// A provider as `required_providers` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderPin {
    /// The local name the roots use (`aws`).
    pub name: &'static str,
    /// Its registry address (`hashicorp/aws`).
    pub source: &'static str,
    /// The version constraint the roots render (`~> 6.28`: 6.28 or a later 6.x).
    pub version: &'static str,
}

const fn pin(name: &'static str, source: &'static str, version: &'static str) -> ProviderPin {
    ProviderPin { name, source, version }
}

/// Every provider a root may require, by name.
pub const PROVIDERS: [ProviderPin; 7] = [
    pin("aws", "hashicorp/aws", "~> 6.28"),
    pin("azurerm", "hashicorp/azurerm", "~> 4.48"),
    pin("azuread", "hashicorp/azuread", "~> 3.0"),
    pin("google", "hashicorp/google", "~> 7.17"),
    pin("helm", "hashicorp/helm", "~> 3.0"),
    pin("kubernetes", "hashicorp/kubernetes", "~> 3.1"),
    pin("vault", "hashicorp/vault", "~> 5.0"),
];

/// The provider named `name`, if a root may require it.
pub fn provider(name: &str) -> Option<&'static ProviderPin> {
    PROVIDERS.iter().find(|p| p.name == name)
}
