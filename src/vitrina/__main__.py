from vitrina.cli.main import main

main()
