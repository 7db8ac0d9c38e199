from plandoc.cli import main

main()
