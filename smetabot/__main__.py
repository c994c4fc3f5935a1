from smetabot.cli import main

main()
