# Cognito: the user pool people log in with, its hosted login pages, and the hub's OAuth client.
# Accounts are created by an administrator (no self sign-up).

resource "aws_cognito_user_pool" "this" {
  name                     = var.name
  auto_verified_attributes = ["email"]
  mfa_configuration        = "OPTIONAL"

  admin_create_user_config {
    allow_admin_create_user_only = true
  }

  password_policy {
    minimum_length                   = 12
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = false
    temporary_password_validity_days = 7
  }

  software_token_mfa_configuration {
    enabled = true
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  schema {
    name                = "email"
    attribute_data_type = "String"
    required            = true
    mutable             = true
    string_attribute_constraints {
      min_length = 3
      max_length = 254
    }
  }
}

resource "aws_cognito_user_pool_domain" "this" {
  # Hosted domain prefixes are global per region: the account id keeps this one unique.
  domain       = "${var.name}-${var.aws_account_id}"
  user_pool_id = aws_cognito_user_pool.this.id
}

locals {
  hosted_url   = "https://${aws_cognito_user_pool_domain.this.domain}.auth.${var.aws_region}.amazoncognito.com"
  callback_url = "https://${var.domain}/hub/oauth_callback"
  signed_out   = "https://${var.domain}/"
}

resource "aws_cognito_user_pool_client" "hub" {
  name                                 = "jupyterhub"
  user_pool_id                         = aws_cognito_user_pool.this.id
  generate_secret                      = true
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = ["openid", "email", "profile"]
  supported_identity_providers         = ["COGNITO"]
  callback_urls                        = [local.callback_url]
  logout_urls                          = [local.signed_out]
  explicit_auth_flows                  = ["ALLOW_REFRESH_TOKEN_AUTH"]
  prevent_user_existence_errors        = "ENABLED"
}
