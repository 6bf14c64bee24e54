# What External Secrets Operator may do in Vault: read and write the environment's paths of the
# KV version 2 engine, and log in as its controller's service account through the Kubernetes
# auth method that knows this cluster. Values are written by its PushSecrets, never by
# Terraform, so none is in the state.

resource "vault_policy" "external_secrets" {
  name = var.policy
  policy = join("\n", [
    "path \"${var.mount}/data/${var.prefix}-*\" {",
    "  capabilities = [\"create\", \"read\", \"update\"]",
    "}",
    "path \"${var.mount}/metadata/${var.prefix}-*\" {",
    "  capabilities = [\"create\", \"read\", \"update\"]",
    "}",
  ])
}

resource "vault_kubernetes_auth_backend_role" "external_secrets" {
  backend                          = var.auth_mount
  role_name                        = var.role
  bound_service_account_names      = [var.service_account]
  bound_service_account_namespaces = [var.namespace]
  token_policies                   = [vault_policy.external_secrets.name]
  token_ttl                        = 3600
}
