// The `vowifi` command line: subcommands are dispatched from here.
import Runtime
import UESim

print("vowifi: VoWiFi Core")
