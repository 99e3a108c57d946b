from billy.cli import main

main()
