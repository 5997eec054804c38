# The secrets themselves never enter Terraform or its state: Terraform makes the empty secrets and
# grants access; an operator adds each version (README.md, "Secrets") and pins it in
# `secret_versions`.
resource "google_secret_manager_secret" "secret" {
  for_each  = local.secret_env
  secret_id = "tresen-${each.key}"

  replication {
    user_managed {
      replicas {
        location = var.region
      }
    }
  }
}

resource "google_secret_manager_secret_iam_member" "accessor" {
  for_each = {
    for pair in flatten([
      for name, entry in local.entry_points : [for secret in entry.secrets : { function = name, secret = secret }]
    ]) : "${pair.function}:${pair.secret}" => pair
  }
  secret_id = google_secret_manager_secret.secret[each.value.secret].id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.function[each.value.function].email}"
}
