# A secretboot spec: one stage, one role, one secret.
# Check it with `secretboot validate`, preview with `secretboot plan`.

project = "example"

stage "dev" {
  region = "us-east-1"
  # account_id = "111111111111"   # pin the AWS account; apply refuses any other
}

# An EC2 role (with an instance profile) that may read the secret below.
role "app" {
  description = "application instances"
}

# Secret dev/app/config, a JSON object read by role example-dev-app.
secret "app/config" {
  description = "application settings"
  readers     = [role.app]
  value = {
    # Payloads come from the environment, never from the spec itself:
    #   export EXAMPLE_API_KEY=...
    api_key = env("EXAMPLE_API_KEY")
  }
  # Created once on the first apply and kept afterwards.
  generate "session_key" {
    length = 32
  }
}
