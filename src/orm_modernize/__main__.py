from orm_modernize.cli.commands import main

main()
