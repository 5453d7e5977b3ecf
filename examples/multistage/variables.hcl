variable "api_url" {
  type        = string
  description = "public base URL of the payments API"
}

variable "reporting" {
  type        = string
  description = "ARN of the reporting role that Terraform manages"
}

variable "tls_key_file" {
  type        = string
  description = "certificate bundle to store, relative to this directory"
}

variable "stripe_kms_id" {
  type        = string
  default     = ""
  description = "customer managed KMS key for the Stripe key; empty = aws/secretsmanager"
}
