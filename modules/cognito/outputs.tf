output "user_pool_id" {
  description = "ID of the user pool (administrators add users here)."
  value       = aws_cognito_user_pool.this.id
}

output "oauth" {
  description = "OAuth settings for JupyterHub's GenericOAuthenticator (everything but the client secret)."
  value = {
    client_id     = aws_cognito_user_pool_client.hub.id
    callback_url  = local.callback_url
    authorize_url = "${local.hosted_url}/oauth2/authorize"
    token_url     = "${local.hosted_url}/oauth2/token"
    userdata_url  = "${local.hosted_url}/oauth2/userInfo"
    logout_url    = "${local.hosted_url}/logout?client_id=${aws_cognito_user_pool_client.hub.id}&logout_uri=${urlencode(local.signed_out)}"
  }
}

output "client_secret" {
  description = "Secret of the hub's app client."
  value       = aws_cognito_user_pool_client.hub.client_secret
  sensitive   = true
}
