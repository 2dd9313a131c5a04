# Corporate proxy settings for login shells (https://intranet.example.com/proxy)
export http_proxy=http://proxy.example.com:3128
export https_proxy=http://proxy.example.com:3128
export no_proxy=localhost,127.0.0.1,.example.com
alias sudo='sudo '
