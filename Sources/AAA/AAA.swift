/// The AAA layer: a RADIUS server (RFC 2865/3579) in front of the EAP-AKA/AKA' server,
/// so Wi-Fi access points (802.1X) and other ePDGs authenticate SIMs against our HSS.
public enum AAALayer {
    public static let name = "aaa"
}
