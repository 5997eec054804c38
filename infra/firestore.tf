locals {
  # The single source of truth for indexes and TTL fields, shared with the Firebase CLI.
  firestore = jsondecode(file("${path.module}/../firestore.indexes.json"))
  indexes = {
    for index in local.firestore.indexes :
    "${index.collectionGroup}:${join(",", [for field in index.fields : "${field.fieldPath}.${lookup(field, "order", lookup(field, "arrayConfig", ""))}"])}" => index
  }
  field_overrides = { for field in local.firestore.fieldOverrides : "${field.collectionGroup}.${field.fieldPath}" => field }
}

resource "google_firestore_database" "main" {
  name                              = "(default)"
  location_id                       = var.region
  type                              = "FIRESTORE_NATIVE"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  deletion_policy                   = "ABANDON"
  depends_on                        = [google_project_service.apis]
}

resource "google_firestore_index" "composite" {
  for_each    = local.indexes
  database    = google_firestore_database.main.name
  collection  = each.value.collectionGroup
  query_scope = each.value.queryScope

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path = fields.value.fieldPath
      order      = lookup(fields.value, "order", null)
    }
  }
}

# Field overrides: TTL where the file says so (idempotency records, rate limits), and no indexes
# on large fields nobody queries (an order's lines, a parked webhook's raw body).
resource "google_firestore_field" "override" {
  for_each   = local.field_overrides
  database   = google_firestore_database.main.name
  collection = each.value.collectionGroup
  field      = each.value.fieldPath

  dynamic "ttl_config" {
    for_each = lookup(each.value, "ttl", false) ? [1] : []
    content {}
  }

  index_config {}
}

resource "google_firebaserules_ruleset" "firestore" {
  source {
    files {
      name    = "firestore.rules"
      content = file("${path.module}/../firestore.rules")
    }
  }
  depends_on = [google_firestore_database.main]
}

resource "google_firebaserules_release" "firestore" {
  name         = "cloud.firestore"
  ruleset_name = google_firebaserules_ruleset.firestore.name
}
