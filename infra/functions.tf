# The source of every function: ../functions (main.py, the tresen package, requirements.txt).
data "archive_file" "source" {
  type        = "zip"
  source_dir  = "${path.module}/../functions"
  output_path = "${path.module}/.build/functions.zip"
  excludes    = ["**/__pycache__/**"]
}

resource "google_storage_bucket" "source" {
  # checkov:skip=CKV_GCP_78:Each build's archive is a new object named by its hash; nothing is overwritten.
  # checkov:skip=CKV_GCP_62:Holds only the functions' source; Cloud Audit Logs record access.
  name                        = "${var.project_id}-tresen-source"
  location                    = upper(var.region)
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
}

resource "google_storage_bucket_object" "source" {
  name   = "functions-${data.archive_file.source.output_md5}.zip"
  bucket = google_storage_bucket.source.name
  source = data.archive_file.source.output_path
}

resource "google_cloudfunctions2_function" "entry" {
  for_each = local.entry_points
  name     = "tresen-${replace(each.key, "_", "-")}"
  location = var.region

  build_config {
    runtime     = "python312"
    entry_point = each.key
    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    available_memory                 = each.value.memory
    timeout_seconds                  = each.value.timeout
    min_instance_count               = each.value.min
    max_instance_count               = each.value.max
    max_instance_request_concurrency = each.value.concurrency
    available_cpu                    = "1"
    ingress_settings                 = each.value.public ? "ALLOW_ALL" : "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.function[each.key].email

    environment_variables = merge({
      TRESEN_ENV            = "prod"
      GOOGLE_CLOUD_PROJECT  = var.project_id
      TRESEN_ARCHIVE_BUCKET = google_storage_bucket.archive.name
      TRESEN_PUBLIC_URL     = var.public_url
      TRESEN_ORDER_PAGE_URL = var.order_page_url
      STRIPE_CONNECT        = tostring(var.stripe_connect)
      TRESEN_SIGNING_KEY    = "${google_kms_crypto_key.checkpoints.id}/cryptoKeyVersions/1"
      MAIL_FROM             = var.mail_from
      # the platform as its licence invoices name it (name, address, VAT id, tax number), JSON
      TRESEN_PLATFORM_ISSUER = jsonencode(var.platform_issuer)
      FIREBASE_WEB_API_KEY   = var.firebase_web_api_key
      PAYPAL_CLIENT_ID       = var.paypal_client_id
      PAYPAL_WEBHOOK_ID      = var.paypal_webhook_id
      # functions-framework serves with 4 threads per vCPU unless told otherwise: one thread for each
      # concurrent request, as Google recommends for Python (a live stream holds its thread 300 s)
      THREADS = tostring(each.value.concurrency)
    }, each.value.web ? { TRESEN_WEB_ORIGINS = join(",", var.web_origins) } : {})

    dynamic "secret_environment_variables" {
      for_each = toset(each.value.secrets)
      content {
        key        = local.secret_env[secret_environment_variables.value]
        project_id = var.project_id
        secret     = google_secret_manager_secret.secret[secret_environment_variables.value].secret_id
        version    = var.secret_versions[secret_environment_variables.value]
      }
    }
  }

  depends_on = [google_project_service.apis, google_secret_manager_secret_iam_member.accessor]
}

# Public functions: anyone may call them; the app authenticates (docs/api.md "Authentication").
resource "google_cloud_run_service_iam_member" "public" {
  # checkov:skip=CKV_GCP_102:The ordering page, the staff board, payment providers and finance tools call these from the internet; every request is authenticated in the app (tokens, API keys, provider signatures).
  for_each = { for name, entry in local.entry_points : name => entry if entry.public }
  location = var.region
  service  = google_cloudfunctions2_function.entry[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# The jobs function: only the scheduler's account, with an OIDC token.
resource "google_cloud_run_service_iam_member" "jobs_scheduler" {
  location = var.region
  service  = google_cloudfunctions2_function.entry["jobs"].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.scheduler.email}"
}
