locals {
  # One function per entry point of ../functions/main.py. `public`: reachable from the internet
  # (authentication happens in the app: tokens, API keys, provider signatures); jobs are internal
  # and invocable by the scheduler's account only. `secrets`: what each may read, nothing more — the
  # start-up guard's SECRETS_OF_ENTRY (functions/tresen/config.py) requires exactly these. `web`:
  # called by the web pages from the browser, so given var.web_origins for CORS. `customer_api` and
  # `staff_api` serve the pages' live streams, which last 300 s each (functions/tresen/http/live_routes.py):
  # their timeout of 330 s lets a stream end itself; each open stream holds one of the 40 requests.
  entry_points = {
    customer_api = {
      public  = true, memory = "512Mi", timeout = 330, min = 1, max = 40, concurrency = 40
      secrets = ["stripe-api-key", "giftcard-key", "fiskaly-api-key", "fiskaly-api-secret"], web = true
    }
    staff_api = {
      public  = true, memory = "512Mi", timeout = 330, min = 1, max = 20, concurrency = 40
      secrets = ["stripe-api-key", "giftcard-key", "smtp-url", "fiskaly-api-key", "fiskaly-api-secret"], web = true
    }
    webhooks = {
      public  = true, memory = "512Mi", timeout = 60, min = 1, max = 40, concurrency = 40
      secrets = ["stripe-webhook-secret", "stripe-connect-webhook-secret", "stripe-api-key", "giftcard-key", "smtp-url", "fiskaly-api-key", "fiskaly-api-secret"], web = false
    }
    exports = {
      public  = true, memory = "1Gi", timeout = 900, min = 0, max = 5, concurrency = 4
      secrets = [], web = true
    }
    jobs = {
      public  = false, memory = "1Gi", timeout = 1800, min = 0, max = 3, concurrency = 1
      secrets = ["stripe-api-key", "giftcard-key", "smtp-url", "fiskaly-api-key", "fiskaly-api-secret"], web = false
    }
  }
  secret_env = {
    "stripe-api-key"                = "STRIPE_API_KEY"
    "stripe-webhook-secret"         = "STRIPE_WEBHOOK_SECRET"
    "stripe-connect-webhook-secret" = "STRIPE_CONNECT_WEBHOOK_SECRET"
    "giftcard-key"                  = "TRESEN_GIFTCARD_KEY"
    "smtp-url"                      = "SMTP_URL"
    "fiskaly-api-key"               = "FISKALY_API_KEY"
    "fiskaly-api-secret"            = "FISKALY_API_SECRET"
  }
  apis = [
    "cloudfunctions.googleapis.com", "run.googleapis.com", "cloudbuild.googleapis.com",
    "artifactregistry.googleapis.com", "firestore.googleapis.com", "firebaserules.googleapis.com",
    "storage.googleapis.com", "secretmanager.googleapis.com", "cloudkms.googleapis.com",
    "cloudscheduler.googleapis.com", "iamcredentials.googleapis.com", "monitoring.googleapis.com",
    "logging.googleapis.com",
  ]
}

resource "google_project_service" "apis" {
  for_each           = toset(local.apis)
  service            = each.value
  disable_on_destroy = false
}

resource "google_service_account" "function" {
  for_each     = local.entry_points
  account_id   = "tresen-${replace(each.key, "_", "-")}"
  display_name = "Tresen ${each.key} (${var.environment})"
}

resource "google_service_account" "scheduler" {
  account_id   = "tresen-scheduler"
  display_name = "Tresen Cloud Scheduler: invokes the jobs function with OIDC"
}

# Firestore: read and write documents (the rules do not apply to the server's own account).
# The staff API invites people: it creates their Firebase Auth accounts, makes the one-time codes of
# their links, mirrors their roles into custom claims and revokes a removed member's sessions.
resource "google_project_iam_member" "firebase_auth_admin" {
  project = var.project_id
  role    = "roles/firebaseauth.admin"
  member  = "serviceAccount:${google_service_account.function["staff_api"].email}"
}

resource "google_project_iam_member" "datastore_user" {
  for_each = local.entry_points
  project  = var.project_id
  role     = "roles/datastore.user"
  member   = "serviceAccount:${google_service_account.function[each.key].email}"
}

# Statements' download links are signed by the exports function's own account through IAM
# signBlob (no key file exists), so it may make tokens for itself, and for nobody else.
resource "google_service_account_iam_member" "exports_signs_urls" {
  service_account_id = google_service_account.function["exports"].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${google_service_account.function["exports"].email}"
}

# Who read or wrote which archived object: Cloud Audit Logs for Cloud Storage's data access.
resource "google_project_iam_audit_config" "storage" {
  project = var.project_id
  service = "storage.googleapis.com"
  audit_log_config {
    log_type = "DATA_READ"
  }
  audit_log_config {
    log_type = "DATA_WRITE"
  }
}
