from media_tool.cli import main

raise SystemExit(main())
