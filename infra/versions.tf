terraform {
  required_version = ">= 1.6"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "= 6.14.1"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "= 2.7.0"
    }
  }

  # State lives in a bucket of the project itself (see README.md, "Bootstrap"):
  # terraform init -backend-config="bucket=<project>-tfstate" -backend-config="prefix=<environment>"
  backend "gcs" {}
}

provider "google" {
  project = var.project_id
  region  = var.region
}
