project = "shop"

stage "dev" {
  region = "us-east-1"
  vars   = { db_host = "db.internal.example" }
}

variable "db_host" { type = string }

role "web" {
  description = "reads ${var.db_hots}" # ERROR: Undeclared variable
}

# In a payload expression HCL's own message would be hidden.
secret "db" {
  readers = [role.web]
  value = {
    host     = var.db_hots # ERROR: Undeclared variable
    password = env("SET")
  }
}
