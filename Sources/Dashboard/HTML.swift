/// Server-rendered HTML: every value goes through `escape`, no third-party asset is loaded, and
/// the page works without JavaScript (the one script only reloads it every 30 seconds).
enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    struct Tab {
        var path: String
        var title: String
    }

    static let tabs = [
        Tab(path: "/", title: "Daily Summary"), Tab(path: "/executive", title: "Executive Summary"),
        Tab(path: "/deploys", title: "Deploys"), Tab(path: "/kill-switch", title: "Kill switch"),
    ]

    /// A whole page: the tabs, the health panel, the body. `csrf` is nil on the login page.
    static func page(
        title: String, path: String, health: HealthPanel?, body: String, csrf: String?, notice: String? = nil,
        refresh: Bool = true
    ) -> String {
        var nav = ""
        if let csrf {
            nav = "<nav>"
            for tab in tabs {
                nav += "<a href=\"\(tab.path)\"\(tab.path == path ? " class=\"active\"" : "")>\(escape(tab.title))</a>"
            }
            nav +=
                "<form method=\"post\" action=\"/logout\" class=\"logout\"><input type=\"hidden\" name=\"csrf\" value=\"\(escape(csrf))\"><button>Log out</button></form></nav>"
        }
        var panel = ""
        if let health {
            panel = "<section class=\"health\" id=\"health\"><h2>System health</h2><ul>"
            for item in health.items {
                panel +=
                    "<li class=\"\(item.level.rawValue)\"><span class=\"dot\"></span><b>\(escape(item.name))</b> \(escape(item.text))</li>"
            }
            panel += "</ul></section>"
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) · tradingbot</title><link rel="stylesheet" href="/static/app.css">
            \(refresh ? "<script src=\"/static/refresh.js\" defer></script>" : "")</head>
            <body\(refresh ? " data-refresh=\"30\"" : "")><header><h1>tradingbot</h1>\(nav)</header>
            \(notice.map { "<p class=\"notice\">\(escape($0))</p>" } ?? "")\(panel)<main>\(body)</main></body></html>
            """
    }

    static func table(_ headers: [String], _ rows: [[String]], numeric: Set<Int> = []) -> String {
        var out = "<table><thead><tr>"
        for (i, h) in headers.enumerated() {
            out += "<th\(numeric.contains(i) ? " class=\"num\"" : "")>\(escape(h))</th>"
        }
        out += "</tr></thead><tbody>"
        for row in rows {
            out += "<tr>"
            for (i, cell) in row.enumerated() {
                out += "<td\(numeric.contains(i) ? " class=\"num\"" : "")>\(escape(cell))</td>"
            }
            out += "</tr>"
        }
        return out + "</tbody></table>"
    }

    /// An empty state that says why, never a blank panel.
    static func empty(_ why: String) -> String { "<p class=\"empty\">\(escape(why))</p>" }

    static let css = """
        :root{color-scheme:dark}body{margin:0;font:14px/1.45 system-ui,sans-serif;background:#0f1216;color:#d8dee6}
        header{display:flex;align-items:center;gap:24px;padding:10px 20px;background:#161b22;border-bottom:1px solid #2a313b}
        h1{font-size:18px;margin:0}h2{font-size:15px;margin:18px 0 8px;color:#9fb0c3}nav{display:flex;gap:14px;align-items:center;flex:1}
        nav a{color:#9fb0c3;text-decoration:none;padding:4px 2px}nav a.active{color:#fff;border-bottom:2px solid #4aa3ff}
        .logout{margin-left:auto}button{background:#243040;color:#d8dee6;border:1px solid #3a4656;border-radius:4px;padding:5px 12px;cursor:pointer}
        button.danger{background:#5a1d1d;border-color:#8a2d2d}main,.health,.notice{padding:0 20px}
        .health ul{list-style:none;padding:0;margin:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:4px 18px}
        .health{margin-bottom:14px}.health li{padding:3px 0}.dot{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:7px}
        .green .dot{background:#3fb950}.amber .dot{background:#d29922}.red .dot{background:#f85149}
        .cards{display:flex;flex-wrap:wrap;gap:12px}.card{background:#161b22;border:1px solid #2a313b;border-radius:6px;padding:10px 14px;min-width:170px}
        .card .label{color:#8b98a8;font-size:12px}.card .value{font-size:20px;font-weight:600}.card .sub{color:#8b98a8;font-size:12px}
        table{border-collapse:collapse;width:100%;margin-bottom:10px}th,td{padding:4px 8px;border-bottom:1px solid #232a33;text-align:left}
        th{color:#8b98a8;font-weight:500}.num{text-align:right;font-variant-numeric:tabular-nums}.pos{color:#3fb950}.neg{color:#f85149}
        .empty{background:#161b22;border:1px dashed #3a4656;border-radius:6px;padding:14px;color:#c9d1d9}
        .notice{background:#3a2d0c;border:1px solid #6b5313;padding:8px 12px;margin:10px 20px;border-radius:4px}
        .error{background:#3a1414;border:1px solid #8a2d2d;padding:10px 14px;border-radius:6px}
        svg{background:#161b22;border:1px solid #2a313b;border-radius:6px;max-width:100%}svg text{fill:#8b98a8;font-size:11px}
        form.login{max-width:320px;margin:60px auto;display:flex;flex-direction:column;gap:10px}
        input{background:#0f1216;color:#d8dee6;border:1px solid #3a4656;border-radius:4px;padding:6px}.pager{display:flex;gap:12px}
        a{color:#4aa3ff}
        """

    static let script = """
        (function(){var s=document.body.getAttribute('data-refresh');if(s){setTimeout(function(){location.reload()},Number(s)*1000)}})();
        """
}
