/// Where the ePDG puts the phones' inner IP packets after ESP, and where packets toward
/// the phones come from: a TUN device (the kernel routes them to the IMS and beyond) or
/// the in-process path (the IMS in this process, no root needed).
public protocol InnerNetwork: AnyObject, Sendable {
    /// A decapsulated packet from a UE (`owner` is its IMSI, for logs and captures).
    func fromUE(_ packet: [UInt8], owner: String)
    /// Called by the ePDG once at start: packets toward UEs go through `send`.
    func attach(sendToUE: @escaping ([UInt8]) -> Void)
}
