environment  = "production"
lock_archive = true # irreversible: see README.md, "Locking the archive"
public_url   = "https://bestellen.tresen.example"
alert_email  = "ops@tresen.example"
