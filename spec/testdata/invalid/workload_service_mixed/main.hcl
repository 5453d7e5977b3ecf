project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "api" {
  service = ["ecs-tasks.amazonaws.com"] # ERROR: Service and workload trust mixed
  pod_identity {
    namespace = "shop"
  }
}

secret "ok" {
  readers = [role.api]
  value   = "xxxxxxxx"
}
