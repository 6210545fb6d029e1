output "namespace" {
  description = "Namespace of the hub."
  value       = kubernetes_namespace_v1.hub.metadata[0].name
}

output "service_name" {
  description = "Name of the hub's public proxy service."
  value       = local.proxy_service
}

output "load_balancer_hostname" {
  description = "Hostname of the load balancer in front of the proxy-public service (null until AWS has assigned one)."
  value       = try(data.kubernetes_service_v1.proxy_public.status[0].load_balancer[0].ingress[0].hostname, null)
}

output "health_check" {
  description = "What the health check (invoke health) needs: the hub's public name (null: the load balancer's address), its user, whether it runs the full journey, the Secrets Manager secret holding its service token, and the login it follows (null for the dummy authenticator)."
  value = {
    hostname        = var.domain
    user            = local.health
    journey         = var.health_journey
    token_secret_id = aws_secretsmanager_secret.health_token.arn
    login = var.authentication == "cognito" ? {
      start_path    = "/hub/oauth_login"
      authorize_url = var.oauth.authorize_url
      client_id     = var.oauth.client_id
      # The hub's GenericOAuthenticator.oauth_callback_url is this same value.
      redirect_uri = var.oauth.callback_url
    } : null
  }
}
