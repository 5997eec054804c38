environment    = "staging"
lock_archive   = false # staging can be torn down
order_page_url = "https://staging.tresen.example/"
public_url     = "https://staging.tresen.example"
web_origins    = ["https://staging.tresen.example"] # or https://PROJECT.web.app and https://PROJECT.firebaseapp.com
alert_email    = "ops@tresen.example"
