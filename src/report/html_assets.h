// The HTML report's script and style (src/report/html/report.js, report.css), embedded at
// build time by cmake/embed_html_assets.cmake. Internal to src/report.
#pragma once

namespace bentov::report::detail {

const char* html_report_js();
const char* html_report_css();

}  // namespace bentov::report::detail
