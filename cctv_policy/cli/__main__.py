from cctv_policy.cli.main import cli

cli()
