# What production takes from cae-dev, written by `invoke promote --to cae` (never by hand): the
# AMI release cae-dev ran when it last applied successfully. Placeholder until the first
# promotion: the release cae-dev runs.
node_release_version = "1.35.0-20261120"
