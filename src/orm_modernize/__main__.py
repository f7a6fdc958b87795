from orm_modernize.cli import main

main()
