"""Drift-safety task library for the CAE JupyterHub on AWS EKS, managed with OpenTofu.

Modules import their heavy dependencies (boto3, dnspython) lazily, so that `invoke --list` and
`invoke --help` stay fast.
"""
