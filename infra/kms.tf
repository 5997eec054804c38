# The Ed25519 key that signs the journal's checkpoints and the statements' manifests. It never
# leaves Cloud KMS; the functions that sign (the APIs, the exports, the jobs) may sign with it and
# read its public half, nothing else. Rotation: README.md, "Key rotation".
resource "google_kms_key_ring" "tresen" {
  name     = "tresen"
  location = var.region
}

resource "google_kms_crypto_key" "checkpoints" {
  name     = "checkpoints"
  key_ring = google_kms_key_ring.tresen.id
  purpose  = "ASYMMETRIC_SIGN"

  version_template {
    algorithm        = "EC_SIGN_ED25519"
    protection_level = "SOFTWARE"
  }

  lifecycle {
    prevent_destroy = true
  }
}

resource "google_kms_crypto_key_iam_member" "signer" {
  for_each      = toset(["customer_api", "staff_api", "exports", "jobs"])
  crypto_key_id = google_kms_crypto_key.checkpoints.id
  role          = "roles/cloudkms.signerVerifier"
  member        = "serviceAccount:${google_service_account.function[each.key].email}"
}
