# The archive (docs/architecture.md): every journal entry, checkpoint and statement, create-only, kept at
# least 11 years; the retention policy is locked in production (irreversible), so not even the
# project's owner can delete an object before its time.
resource "google_storage_bucket" "archive" {
  # checkov:skip=CKV_GCP_78:Objects are written create-only and the retention policy forbids deleting them: there is no older version to keep.
  # checkov:skip=CKV_GCP_62:Access is recorded by Cloud Audit Logs (data access for Cloud Storage, enabled in main.tf), not by usage logs in another bucket.
  name                        = "${var.project_id}-tresen-archive"
  location                    = upper(var.region)
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = false # objects are never replaced (create-only writes), so there is nothing to keep
  }

  retention_policy {
    retention_period = var.archive_retention_years * 365 * 24 * 60 * 60
    is_locked        = var.lock_archive
  }
}

# The runtime creates and reads objects; it can neither delete nor replace them.
resource "google_storage_bucket_iam_member" "archive_create" {
  for_each = local.entry_points
  bucket   = google_storage_bucket.archive.name
  role     = "roles/storage.objectCreator"
  member   = "serviceAccount:${google_service_account.function[each.key].email}"
}

resource "google_storage_bucket_iam_member" "archive_read" {
  for_each = local.entry_points
  bucket   = google_storage_bucket.archive.name
  role     = "roles/storage.objectViewer"
  member   = "serviceAccount:${google_service_account.function[each.key].email}"
}
