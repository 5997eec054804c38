locals {
  # The private jobs function's routes, on the schedules docs/operations.md names
  # (Europe/Berlin, so "05:00" is the stores' 05:00 in summer and winter). The jobs over every
  # store (checkpoints, close-due, verify, licence-invoices) run in runs of an hour or a day: each call goes on with
  # the period's run until it is done, so they are called more often than their period.
  jobs = {
    archive-sweep    = { path = "/v1/jobs/sweep", schedule = "*/5 * * * *", deadline = "300s" }
    checkpoints      = { path = "/v1/jobs/checkpoints", schedule = "*/5 * * * *", deadline = "300s" }
    close-due        = { path = "/v1/jobs/close-due", schedule = "*/5 5-8 * * *", deadline = "300s" }
    expire-orders    = { path = "/v1/jobs/expire-orders", schedule = "* * * * *", deadline = "60s" }
    giftcards        = { path = "/v1/jobs/giftcards", schedule = "*/5 * * * *", deadline = "300s" }
    licence-invoices = { path = "/v1/jobs/licence-invoices", schedule = "*/30 6-9 * * *", deadline = "1800s" }
    mail             = { path = "/v1/jobs/mail", schedule = "* * * * *", deadline = "120s" }
    tse              = { path = "/v1/jobs/tse", schedule = "* * * * *", deadline = "120s" }
    verify           = { path = "/v1/jobs/verify", schedule = "*/10 1-5 * * *", deadline = "600s" }
    webhooks         = { path = "/v1/jobs/webhooks", schedule = "* * * * *", deadline = "300s" }
  }
}

resource "google_cloud_scheduler_job" "job" {
  for_each         = local.jobs
  name             = "tresen-${each.key}"
  region           = var.region
  schedule         = each.value.schedule
  time_zone        = "Europe/Berlin"
  attempt_deadline = each.value.deadline

  retry_config {
    retry_count          = 3
    min_backoff_duration = "10s"
    max_backoff_duration = "300s"
    max_doublings        = 3
  }

  http_target {
    http_method = "POST"
    uri         = "${google_cloudfunctions2_function.entry["jobs"].service_config[0].uri}${each.value.path}"

    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = google_cloudfunctions2_function.entry["jobs"].service_config[0].uri
    }
  }

  depends_on = [google_project_service.apis]
}
