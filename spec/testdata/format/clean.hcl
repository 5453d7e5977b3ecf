project = "shop"

stage "dev" {
  region = "us-east-1"
}
