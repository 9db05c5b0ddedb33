function _lava_completion
    set -l items (env _LAVA_COMPLETE=complete_fish _TYPER_COMPLETE_FISH_ACTION=get-args _TYPER_COMPLETE_ARGS=(commandline -cp) lava)
    if string length -q -- $items
        printf '%s\n' $items
    else
        __fish_complete_path (commandline -ct)
    end
end
complete --command lava --no-files --arguments "(_lava_completion)"

