# Cognito: the user pool people log in with, its hosted login pages, and the hub's OAuth client.
# Accounts are created by an administrator (no self sign-up).
#
# Losing the pool loses every login. Where it is protected (production), two things keep it:
# AWS refuses to delete it (deletion_protection), and the plan refuses to go ahead when it would
# be deleted or replaced (the guard below, prevent_destroy). cae-dev uses this module unprotected,
# so that it stays destroyable on a whim.

resource "aws_cognito_user_pool" "this" {
  name                     = var.name
  auto_verified_attributes = ["email"]
  mfa_configuration        = "OPTIONAL"
  deletion_protection      = var.protected ? "ACTIVE" : "INACTIVE"

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

# prevent_destroy takes only a literal, and cae-dev shares this module, so the pool itself cannot
# carry it (one address in both states, so no moved block could tell them apart). This guard exists
# only where the pool is protected: it is replaced whenever the pool would be (its id changes)
# and destroyed with it, and prevent_destroy turns either into a plan error.
resource "terraform_data" "user_pool_guard" {
  count = var.protected ? 1 : 0

  triggers_replace = aws_cognito_user_pool.this.id

  lifecycle {
    prevent_destroy = true
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
