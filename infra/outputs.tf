output "function_urls" {
  description = "Where each entry point answers; `tresen web-config` points the web pages at customer_api, staff_api and exports."
  value       = { for name, fn in google_cloudfunctions2_function.entry : name => fn.service_config[0].uri }
}

output "archive_bucket" {
  value = google_storage_bucket.archive.name
}

output "signing_key_version" {
  description = "TRESEN_SIGNING_KEY: the KMS key version that signs checkpoints and statements."
  value       = "${google_kms_crypto_key.checkpoints.id}/cryptoKeyVersions/1"
}
