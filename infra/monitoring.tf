resource "google_monitoring_notification_channel" "email" {
  display_name = "Tresen operations (${var.environment})"
  type         = "email"
  labels = {
    email_address = var.alert_email
  }
}

locals {
  functions_filter = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=starts_with(\"tresen-\")"
  # log lines the code writes when something needs a person (see docs/operations.md)
  log_metrics = {
    archive-backlog  = "archive sweep: .* still failing"
    verify-failed    = "JOURNAL VERIFY FAILED"
    webhook-parked   = "parked as unprocessable"
    journal-recovery = "JOURNAL RECOVERY NEEDED"
    tse-failure      = "TSE failure: order"
  }
}

resource "google_logging_metric" "signal" {
  for_each = local.log_metrics
  name     = "tresen/${each.key}"
  filter   = "${local.functions_filter} AND textPayload=~\"${each.value}\""

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
  }
}

resource "google_monitoring_alert_policy" "signal" {
  for_each     = local.log_metrics
  display_name = "Tresen ${each.key} (${var.environment})"
  combiner     = "OR"

  conditions {
    display_name = "${each.key} logged"
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.signal[each.key].name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      # the archive sweep runs every 5 minutes: failing twice in a row is a backlog over 10 minutes
      duration = each.key == "archive-backlog" ? "600s" : "0s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }

  notification_channels = [google_monitoring_notification_channel.email.id]
  documentation {
    content   = "See infra/README.md, \"When an alert fires\": ${each.key}."
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "server_errors" {
  display_name = "Tresen 5xx rate (${var.environment})"
  combiner     = "OR"

  conditions {
    display_name = "5xx answers at more than one every 10 s for 5 minutes"
    condition_threshold {
      filter          = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND metric.labels.response_code_class=\"5xx\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0.1 # per second, summed over every function
      duration        = "300s"
      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  notification_channels = [google_monitoring_notification_channel.email.id]
  documentation {
    content   = "See infra/README.md, \"When an alert fires\": 5xx."
    mime_type = "text/markdown"
  }
}
