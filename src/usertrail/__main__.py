from usertrail.cli import app

app()
