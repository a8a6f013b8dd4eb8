import Analysis

/// The capture reader of `vowifi analyze` (Sources/Analysis/PcapNGReader.swift): pcapng and
/// classic pcap files of any content, the link-layer strip, and the flow analysis of the frames.
let pcapngHarness = Harness(name: "pcapng", summary: "PcapNGReader on pcapng/pcap bytes, link-layer strip") { data in
    guard let r = try? PcapNGReader(bytes: data) else { return }
    for p in r.packets {
        require(p.interface >= 0 && p.interface < max(r.interfaces.count, 1), "packet \(p.index) on an undescribed interface")
        if let ip = p.ipPacket { require(ip.count <= p.data.count, "IP packet longer than its frame") }
    }
    // What `vowifi analyze` does next: IP/UDP/IKE/ESP/SIP dissection into flows.
    _ = FlowAnalyzer().analyze(packets: r.packets)
}
