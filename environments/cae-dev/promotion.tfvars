# What cae-dev takes from cae-testing, written by `invoke promote --to cae-dev` (never by hand):
# the AMI release cae-testing's nodes ran when it last applied successfully. Placeholder until the
# first promotion: the release your nodes run.
node_release_version = "1.35.0-20261120"
