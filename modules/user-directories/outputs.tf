output "file_system_id" {
  description = "ID of the EFS file system holding the home directories."
  value       = aws_efs_file_system.home.id
}

output "persistent_volume_name" {
  description = "Name of the Kubernetes PersistentVolume for the home directories (claimed in the hub namespace)."
  value       = kubernetes_persistent_volume_v1.home.metadata[0].name
}

output "storage_class_name" {
  description = "Storage class of the home directories' PersistentVolume."
  value       = kubernetes_storage_class_v1.home.metadata[0].name
}
