environment    = "staging"
lock_archive   = false # staging can be torn down
order_page_url = "https://staging.tresen.example/"
public_url     = "https://staging.tresen.example"
web_origins    = ["https://staging.tresen.example"] # or https://PROJECT.web.app and https://PROJECT.firebaseapp.com
alert_email    = "ops@tresen.example"
mail_from      = "Tresen <billing@tresen.example>"
platform_issuer = {
  name        = "Tresen Plattform GmbH"
  street      = "Hanauer Landstraße 1"
  postal_code = "60314"
  city        = "Frankfurt am Main"
  country     = "DE"
  vat_id      = "DE999999999"
  tax_number  = "045 232 12345"
}
firebase_web_api_key = "REPLACE-WITH-THE-PROJECTS-WEB-API-KEY"
