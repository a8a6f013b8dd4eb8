import XCTest
import Glibc
@testable import Runtime

/// A toy service in the shape the ePDG/IMS services take: a handler fed by a context.
private final class ToyService: Service, ServiceHandler {
    let name = "toy"
    let logger: Logger
    var context: ServiceContext?
    var lastPeer: SocketAddress?
    var address: SocketAddress?
    init(logger: Logger) { self.logger = logger }

    func start(on loop: EventLoop) throws {
        let ctx = ServiceContext(loop: loop, logger: logger, handler: self)
        context = ctx
        let s = try ctx.bindUDP(SocketAddress(host: "127.0.0.1", port: 0))
        address = s.localAddress
    }

    func stop() { context?.closeAll() }

    func datagram(_ bytes: UnsafeRawBufferPointer, from peer: SocketAddress, on socket: UDPSocket, context: ServiceContext) {
        lastPeer = peer
        let text = String(decoding: bytes, as: UTF8.self)
        switch text {
        case "arm": context.perform([.armTimer(key: 7, after: .milliseconds(30)), .armTimer(key: 8, after: .milliseconds(10))])
        case "cancel": context.perform(.cancelTimer(key: 8))
        default:
            context.perform([.sendDatagram(Array("re:\(text)".utf8), to: peer, from: nil),
                             .log(.runtime, .info, .from, ue: "toy", text)])
        }
    }

    func timerFired(_ key: UInt64, context: ServiceContext) {
        if let p = lastPeer { context.perform(.sendDatagram(Array("timer \(key)".utf8), to: p, from: address)) }
    }
}

final class ServiceTests: XCTestCase {
    func testServicePerLoopReceivesDatagramsAndRunsActions() throws {
        let lines = Collector<String>()
        let logger = try Logger(defaultLevel: .info, destination: .lines { lines.append($0) })
        let group = try EventLoopGroup(loopCount: 2, name: "rt-svc")
        defer { group.shutdown() }
        let set = try ServiceSet.start(on: group) { _ in ToyService(logger: logger) }
        let addresses = Collector<SocketAddress>()
        set.forEach { if let t = $0 as? ToyService, let a = t.address { addresses.append(a) } }
        XCTAssertEqual(addresses.count, 2)
        let client = try BlockingUDP(family: AF_INET)
        for a in addresses.values {
            client.send(Array("hello".utf8), to: a)
            XCTAssertEqual(client.receive().map { String(decoding: $0.0, as: UTF8.self) }, "re:hello")
            client.send(Array("arm".utf8), to: a)
            client.send(Array("cancel".utf8), to: a)
            XCTAssertEqual(client.receive().map { String(decoding: $0.0, as: UTF8.self) }, "timer 7")
        }
        XCTAssertTrue(lines.values.contains { $0.hasSuffix("[RUNTIME] FROM toy hello") })
        set.stop()
        let late = try BlockingUDP(family: AF_INET, timeoutMs: 300)
        late.send(Array("hello".utf8), to: addresses.values[0])
        XCTAssertNil(late.receive(), "a stopped service must not answer")
    }

    func testStartFailureNamesTheAddress() throws {
        let group = try EventLoopGroup(loopCount: 2, name: "rt-svc")
        defer { group.shutdown() }
        let taken = try BlockingUDP(family: AF_INET, bindTo: SocketAddress(host: "127.0.0.1", port: 0))
        let port = Sock.localAddress(taken.fd)!.port
        final class Fixed: Service {
            let name = "fixed"; let port: UInt16; var ctx: ServiceContext?
            init(_ p: UInt16) { port = p }
            func start(on loop: EventLoop) throws {
                ctx = ServiceContext(loop: loop, logger: try Logger(defaultLevel: .none))
                try ctx!.bindUDP(SocketAddress(host: "127.0.0.1", port: port))
            }
            func stop() { ctx?.closeAll() }
        }
        XCTAssertThrowsError(try ServiceSet.start(on: group) { _ in Fixed(port) }) {
            XCTAssertEqual($0 as? RuntimeError, .addressInUse(transport: "UDP", address: "127.0.0.1:\(port)"))
        }
    }
}
