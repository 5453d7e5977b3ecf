secret "api/stripe-key" {
  description = "Stripe API key, supplied by CI"
  readers     = [role.api, role.worker, role.reporting]
  describe    = [role.api]
  value       = env("STRIPE_KEY")
  kms_key_arn = var.stripe_kms_id != "" ? var.stripe_kms_id : null
  tags = {
    owner = "payments"
  }
}

secret "api/settings" {
  description = "non-secret settings the API reads with its credentials"
  readers     = [role.api]
  value = {
    base_url = var.api_url
    stage    = var.stage
  }
  generate "webhook_signing_secret" {
    length = 48
  }
}

secret "api/tls-cert" {
  description          = "TLS certificate bundle (DEMO file, not a real key)"
  readers              = [role.api]
  binary               = filebase64(var.tls_key_file)
  recovery_window_days = 7
}
