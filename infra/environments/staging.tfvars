environment  = "staging"
lock_archive = false # staging can be torn down
public_url   = "https://staging.tresen.example"
alert_email  = "ops@tresen.example"
