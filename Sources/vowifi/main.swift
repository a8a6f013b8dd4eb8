// The `vowifi` command line. Each subcommand lives in its own file as `enum XCommand { static func run(_ args: [String]) -> Int32 }`.
import Foundation

let usage = """
usage: vowifi <command> [options]
  run     [-c config/mme-ims.cfg] [--ims config/ims.cfg]   run the ePDG, HSS and IMS
  config  check FILE                                       print the resolved config or its errors
  bench   loop|crypto|aka|ike|esp|sip                      benchmarks of the hot paths
  demo    [--profile NAME] [--ues N] [--tun]               simulated phones through the whole flow (the main job)
  ue      --epdg HOST[:PORT] --imsi I --k K --opc O        one simulated phone against any ePDG/IMS
  load    [--ues 1000] [--rate R] [--call-rate R]          many simulated phones: rates, latencies, failures
  analyze FILE [--keys DIR] [--log LOG] [--html OUT]       rebuild each UE's flow from a capture
"""

var args = Array(CommandLine.arguments.dropFirst())
guard let command = args.first else {
    FileHandle.standardError.write(Data(usage.utf8))
    exit(2)
}
args.removeFirst()
let status: Int32
switch command {
case "config": status = ConfigCommand.run(args)
case "run": status = RunCommand.run(args)
case "bench" where args.first == "esp": status = BenchESP.run(Array(args.dropFirst()))
case "bench" where args.first == "ike": status = BenchIKE.run(Array(args.dropFirst()))
case "bench" where args.first == "sip": status = BenchSIP.run(Array(args.dropFirst()))
case "bench": status = BenchCommand.run(args)
case "demo": status = DemoCommand.run(args)
case "ue": status = UECommand.run(args)
case "load": status = LoadCommand.run(args)
case "analyze": status = AnalyzeCommand.run(args)
case "-h", "--help", "help": print(usage); status = 0
default:
    FileHandle.standardError.write(Data("vowifi: unknown command '\(command)'\n\(usage)\n".utf8))
    status = 2
}
exit(status)
