project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "api" {
  instance_profile = true # ERROR: Instance profile for a workload role
  pod_identity {
    cluster_arn = "arn:aws:eks:us-east-1:000000000000:prod" # ERROR: Invalid EKS cluster ARN
  }
  pod_identity {
    cluster_arn     = "arn:aws:eks:us-east-1:111111111111:cluster/prod" # ERROR: Cluster in another account
    service_account = "API" # ERROR: Invalid Kubernetes service account
  }
  pod_identity {} # WARNING: Pod Identity without conditions
}

secret "ok" {
  readers = [role.api]
  value   = "xxxxxxxx"
}
