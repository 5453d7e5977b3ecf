role "api" {
  description = "payments API on EC2"
  tags = {
    team = "payments"
  }
}

role "worker" {
  description      = "webhook worker on ECS"
  service          = ["ecs-tasks.amazonaws.com"]
  instance_profile = false
}

# Owned by Terraform: secretboot only attaches its read policy.
role "reporting" {
  external = var.reporting
}
