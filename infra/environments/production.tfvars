environment    = "production"
lock_archive   = true # irreversible: see README.md, "Locking the archive"
order_page_url = "https://bestellen.tresen.example/"
public_url     = "https://bestellen.tresen.example"
web_origins    = ["https://bestellen.tresen.example"] # the Hosting site's custom domain; or https://PROJECT.web.app and https://PROJECT.firebaseapp.com
alert_email    = "ops@tresen.example"
