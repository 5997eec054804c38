variable "project_id" {
  description = "The Google Cloud project Tresen runs in."
  type        = string
}

variable "environment" {
  description = "staging or production: production locks the archive bucket's retention for good."
  type        = string

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment must be staging or production."
  }
}

variable "region" {
  description = "Every resource lives in Frankfurt."
  type        = string
  default     = "europe-west3"

  validation {
    condition     = var.region == "europe-west3"
    error_message = "Tresen runs in europe-west3 (Frankfurt) only."
  }
}

variable "lock_archive" {
  description = "Lock the archive bucket's retention policy. IRREVERSIBLE: true in production only."
  type        = bool
}

variable "archive_retention_years" {
  description = "How long archived journal entries, checkpoints and statements cannot be deleted."
  type        = number
  default     = 11

  validation {
    condition     = var.archive_retention_years >= 11
    error_message = "German retention rules (AO, HGB) need at least 10 years; Tresen keeps 11."
  }
}

variable "public_url" {
  description = "Where customers and staff reach Tresen (the Firebase Hosting site), for links."
  type        = string
}

variable "order_page_url" {
  description = "The ordering page (Firebase Hosting), where Stripe's Checkout sends customers back to: https://HOST/ ."
  type        = string

  validation {
    condition     = can(regex("^https://[a-z0-9.-]+(:[0-9]{1,5})?/$", var.order_page_url))
    error_message = "order_page_url is the ordering page's https address, ending in a slash."
  }
}

variable "stripe_connect" {
  description = "true: each store is paid on its own Stripe connected account (Connect). false: one merchant on the platform's own Stripe account (self-hosting)."
  type        = bool
  default     = true
}

variable "web_origins" {
  description = "The web pages' origins (Firebase Hosting), admitted by CORS on the functions the pages call: [\"https://PROJECT.web.app\", \"https://PROJECT.firebaseapp.com\"] or the custom domain. Empty: no page may call them from a browser."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for origin in var.web_origins : can(regex("^https://[a-z0-9.-]+(:[0-9]{1,5})?$", origin))])
    error_message = "web_origins are origins as a browser sends them: https://host[:port], lower case, no path or trailing slash."
  }
}

variable "secret_versions" {
  description = "The pinned Secret Manager version of each secret (a new version is deployed by changing it here)."
  type        = map(string)
  default = {
    "stripe-api-key"                = "1"
    "stripe-webhook-secret"         = "1"
    "stripe-connect-webhook-secret" = "1"
    "giftcard-key"                  = "1"
    "smtp-url"                      = "1"
    "fiskaly-api-key"               = "1"
    "fiskaly-api-secret"            = "1"
  }
}

variable "alert_email" {
  description = "Where alerts go."
  type        = string
}

variable "mail_from" {
  description = "The From header of every e-mail Tresen sends (invitations, invoices, dunning), e.g. \"Tresen <billing@example.com>\""
  type        = string
}

variable "platform_issuer" {
  description = "The platform as its licence invoices name it (§14 UStG): name, street, postal_code, city, country, vat_id, tax_number"
  type = object({
    name        = string
    street      = string
    postal_code = string
    city        = string
    country     = string
    vat_id      = string
    tax_number  = optional(string)
  })
}

variable "firebase_web_api_key" {
  description = "The Firebase project's Web API key: the portal page signs in with it (it is public by design)"
  type        = string
}

variable "paypal_client_id" {
  description = "The platform's PayPal REST app client id (licence invoices paid by PayPal); its secret is the secret paypal-client-secret"
  type        = string
  default     = ""
}

variable "paypal_webhook_id" {
  description = "The id PayPal gave the webhook registered for /v1/webhooks/paypal (its signatures are verified against it)"
  type        = string
  default     = ""
}
