project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "pods" {
  service = ["pods.eks.amazonaws.com"] # ERROR: No trust template for service
}

role "mixed" {
  service = [
    "lambda.amazonaws.com", "scheduler.amazonaws.com", # ERROR: No trust template for service
  ]
}

secret "db" {
  readers = [role.pods, role.mixed]
  value   = "x"
}
