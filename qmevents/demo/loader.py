import click
from flask import Flask


def register_demo(app: Flask) -> None:
    @app.cli.command("demo")
    def demo():
        """Load the demo programme (not written yet)."""
        click.echo("not yet")
